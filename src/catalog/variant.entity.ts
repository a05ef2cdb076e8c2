import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

@Entity({ name: 'variants' })
export class Variant {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'product_id', type: 'uuid' })
  productId: string;

  @Column({ name: 'store_connection_id', type: 'uuid' })
  storeConnectionId: string;

  @Column({ name: 'external_id', type: 'text' })
  externalId: string;

  @Column({ name: 'inventory_item_id', type: 'text', nullable: true })
  inventoryItemId: string | null;

  @Column({ type: 'text', nullable: true })
  sku: string | null;

  @Column({ type: 'text' })
  title: string;

  /** numeric(14,2): pg returns it as a string such as "12.50". */
  @Column({ type: 'numeric', precision: 14, scale: 2 })
  price: string;

  @Column({ type: 'int' })
  position: number;

  @Column({ name: 'inventory_quantity', type: 'int' })
  inventoryQuantity: number;

  @Column({ name: 'inventory_tracked', type: 'boolean' })
  inventoryTracked: boolean;

  @Column({ name: 'inventory_policy', type: 'text' })
  inventoryPolicy: string;

  @Column({ name: 'inventory_updated_at', type: 'timestamptz', precision: 3 })
  inventoryUpdatedAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
