import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { PageQuery } from '../common/pagination';
import { EVENT_TYPES } from './event-types';
import { DELIVERY_STATUSES, DeliveryStatus } from './webhook-delivery.entity';
import { IsOmittable } from '../common/validation';

export const ALL_EVENTS = '*';
const EVENT_CHOICES = [ALL_EVENTS, ...EVENT_TYPES];

export class CreateWebhookEndpointDto {
  @ApiProperty({ example: 'https://partner.example/webhooks', maxLength: 2000 })
  @IsString()
  @MaxLength(2000)
  url: string;

  @ApiProperty({ type: [String], enum: EVENT_CHOICES, example: ['*'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(EVENT_CHOICES.length)
  @ArrayUnique()
  @IsIn(EVENT_CHOICES, { each: true, message: `each value in events must be "*" or an event type` })
  events: string[];
}

export class UpdateWebhookEndpointDto {
  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOmittable()
  @IsString()
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional({ type: [String], enum: EVENT_CHOICES })
  @IsOmittable()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(EVENT_CHOICES.length)
  @ArrayUnique()
  @IsIn(EVENT_CHOICES, { each: true, message: `each value in events must be "*" or an event type` })
  events?: string[];

  @ApiPropertyOptional({ description: 'true re-enables an endpoint that was disabled' })
  @IsOmittable()
  @IsBoolean()
  enabled?: boolean;
}

export class WebhookEndpointDto {
  @ApiProperty() id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String] }) events: string[];
  @ApiProperty() enabled: boolean;
  @ApiProperty({
    enum: ['gone', 'failing'],
    nullable: true,
    type: String,
    description: 'why Castbridge disabled the endpoint: it answered 410, or failed for 5 days',
  })
  disabledReason: string | null;
  @ApiPropertyOptional({ description: 'Shown only on create (and on rotate)' }) secret?: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class WebhookEndpointListDto {
  @ApiProperty({ type: [WebhookEndpointDto] }) data: WebhookEndpointDto[];
}

export class WebhookSecretDto {
  @ApiProperty({ description: 'Shown only in this response; the old secret also signs for 24 h' })
  secret: string;
}

export class DeliveryQuery extends PageQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}

export class DeliveryAttemptDto {
  @ApiProperty() attempt: number;
  @ApiProperty() at: string;
  @ApiProperty({ nullable: true, type: Number }) responseStatus: number | null;
  @ApiProperty() durationMs: number;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
}

export class DeliveryDto {
  @ApiProperty({ description: 'also the webhook-id header of every attempt' }) id: string;
  @ApiProperty() eventId: string;
  @ApiProperty() eventType: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: Number }) lastResponseStatus: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty({ nullable: true, type: String }) nextAttemptAt: string | null;
  @ApiProperty({ nullable: true, type: String }) deliveredAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiPropertyOptional({ type: [DeliveryAttemptDto], description: 'the attempt log (newest last)' })
  attemptLog?: DeliveryAttemptDto[];
}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryDto] }) data: DeliveryDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
