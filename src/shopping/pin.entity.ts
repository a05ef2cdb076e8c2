import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A product pinned during a live session (unpinning deletes the row). */
@Entity({ name: 'session_pins' })
export class SessionPin {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  @PrimaryColumn({ name: 'product_id', type: 'uuid' })
  productId: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'pinned_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  pinnedAt: Date;
}
