import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'partners' })
export class Partner {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** Origins a store-connection `returnUrl` may point at, besides PUBLIC_BASE_URL. */
  @Column({ name: 'allowed_return_origins', type: 'text', array: true, default: () => "'{}'" })
  allowedReturnOrigins: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
