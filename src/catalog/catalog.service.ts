import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { BrandsService } from '../brands/brands.service';
import { AppError } from '../common/errors';
import { decodeCursor, encodeCursor, isUuid, Page } from '../common/pagination';
import { ProductDto, VariantDto } from './product.dto';

interface ProductRow {
  id: string;
  brand_id: string;
  external_id: string;
  title: string;
  handle: string;
  status: string;
  image_url: string | null;
  updated_at: Date;
  created_at: Date;
  currency: string | null;
}

interface VariantRow {
  id: string;
  product_id: string;
  external_id: string;
  sku: string | null;
  title: string;
  price: string;
  inventory_quantity: number;
  inventory_tracked: boolean;
  inventory_policy: string;
}

const DEFAULT_CURRENCY = 'USD';

function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Reads of the catalog (API.md "Catalog"); every query is scoped to the partner. */
@Injectable()
export class CatalogService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly brands: BrandsService,
  ) {}

  /** In stock, or sold regardless of stock (untracked, or the "continue" policy). */
  static isAvailable(
    v: Pick<VariantRow, 'inventory_quantity' | 'inventory_tracked' | 'inventory_policy'>,
  ): boolean {
    return !v.inventory_tracked || v.inventory_policy === 'continue' || v.inventory_quantity > 0;
  }

  async list(
    partnerId: string,
    brandId: string,
    opts: { limit?: number; cursor?: string; q?: string },
  ): Promise<Page<ProductDto>> {
    const brand = await this.brands.get(partnerId, brandId);
    const limit = opts.limit ?? 50;
    const params: unknown[] = [brand.id, partnerId, limit + 1];
    let where = 'p.brand_id = $1 AND p.partner_id = $2 AND p.deleted_at IS NULL';
    if (opts.cursor) {
      const c = decodeCursor(opts.cursor);
      params.push(c.createdAt.toISOString(), c.id);
      where += ` AND (p.created_at, p.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
    }
    if (opts.q) {
      params.push(likePattern(opts.q));
      where += ` AND p.title ILIKE $${params.length}`;
    }
    const rows: ProductRow[] = await this.db.query(
      `SELECT p.id, p.brand_id, p.external_id, p.title, p.handle, p.status, p.image_url,
              p.updated_at, p.created_at, c.currency
         FROM products p JOIN store_connections c ON c.id = p.store_connection_id
        WHERE ${where}
        ORDER BY p.created_at DESC, p.id DESC
        LIMIT $3`,
      params,
    );
    const page = rows.slice(0, limit);
    const variants = await this.variantsOf(
      this.db.manager,
      page.map((r) => r.id),
    );
    const last = page[page.length - 1];
    return {
      data: page.map((r) => this.toDto(r, variants.get(r.id) ?? [])),
      nextCursor:
        rows.length > limit && last
          ? encodeCursor({ createdAt: last.created_at, id: last.id })
          : null,
    };
  }

  async get(partnerId: string, id: string): Promise<ProductDto> {
    if (!isUuid(id)) throw AppError.notFound('product');
    const rows: ProductRow[] = await this.db.query(
      `SELECT p.id, p.brand_id, p.external_id, p.title, p.handle, p.status, p.image_url,
              p.updated_at, p.created_at, c.currency
         FROM products p JOIN store_connections c ON c.id = p.store_connection_id
        WHERE p.id = $1 AND p.partner_id = $2 AND p.deleted_at IS NULL`,
      [id, partnerId],
    );
    if (rows.length === 0) throw AppError.notFound('product');
    const variants = await this.variantsOf(this.db.manager, [id]);
    return this.toDto(rows[0], variants.get(id) ?? []);
  }

  /** Products as the API shows them, inside a transaction (for outbox event data). */
  async loadProducts(
    m: EntityManager,
    ids: string[],
    currency: string | null,
  ): Promise<Map<string, ProductDto>> {
    const rows: ProductRow[] = await m.query(
      `SELECT id, brand_id, external_id, title, handle, status, image_url, updated_at, created_at,
              $2::text AS currency
         FROM products WHERE id = ANY($1::uuid[])`,
      [ids, currency],
    );
    const variants = await this.variantsOf(m, ids);
    return new Map(rows.map((r) => [r.id, this.toDto(r, variants.get(r.id) ?? [])]));
  }

  private async variantsOf(
    m: EntityManager,
    productIds: string[],
  ): Promise<Map<string, VariantRow[]>> {
    const out = new Map<string, VariantRow[]>();
    if (productIds.length === 0) return out;
    const rows: VariantRow[] = await m.query(
      `SELECT id, product_id, external_id, sku, title, price::text AS price, inventory_quantity,
              inventory_tracked, inventory_policy
         FROM variants WHERE product_id = ANY($1::uuid[])
        ORDER BY product_id, position, external_id`,
      [productIds],
    );
    for (const r of rows) {
      const list = out.get(r.product_id) ?? [];
      list.push(r);
      out.set(r.product_id, list);
    }
    return out;
  }

  private toDto(r: ProductRow, variants: VariantRow[]): ProductDto {
    const currency = r.currency ?? DEFAULT_CURRENCY;
    return {
      id: r.id,
      brandId: r.brand_id,
      externalId: r.external_id,
      title: r.title,
      handle: r.handle,
      status: r.status,
      imageUrl: r.image_url,
      updatedAt: new Date(r.updated_at).toISOString(),
      variants: variants.map((v): VariantDto => ({
        id: v.id,
        externalId: v.external_id,
        sku: v.sku,
        title: v.title,
        price: v.price,
        currency,
        inventoryQuantity: v.inventory_quantity,
        available: CatalogService.isAvailable(v),
      })),
    };
  }
}
