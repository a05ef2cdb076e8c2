import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/** A store product. Written by the catalog upserts (SQL with a freshness guard). */
@Entity({ name: 'products' })
export class Product {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'brand_id', type: 'uuid' })
  brandId: string;

  @Column({ name: 'store_connection_id', type: 'uuid' })
  storeConnectionId: string;

  @Column({ name: 'external_id', type: 'text' })
  externalId: string;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text' })
  handle: string;

  @Column({ type: 'text' })
  status: string;

  @Column({ name: 'image_url', type: 'text', nullable: true })
  imageUrl: string | null;

  /** The store's updated_at of the version held here (older versions never overwrite it). */
  @Column({ name: 'store_updated_at', type: 'timestamptz', precision: 3 })
  storeUpdatedAt: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
