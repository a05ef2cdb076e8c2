import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../common/errors';
import { isUuid } from '../common/pagination';
import { Brand } from './brand.entity';
import { BrandDto } from './brand.dto';

@Injectable()
export class BrandsService {
  constructor(@InjectRepository(Brand) private readonly brands: Repository<Brand>) {}

  create(partnerId: string, name: string): Promise<Brand> {
    return this.brands.save({ partnerId, name });
  }

  /** The partner's brand; another partner's id is "not found". */
  async get(partnerId: string, id: string): Promise<Brand> {
    const b = isUuid(id) ? await this.brands.findOneBy({ id, partnerId }) : null;
    if (!b) throw AppError.notFound('brand');
    return b;
  }

  toDto(b: Brand): BrandDto {
    return { id: b.id, name: b.name, createdAt: b.createdAt.toISOString() };
  }
}
