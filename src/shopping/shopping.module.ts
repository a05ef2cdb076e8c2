import { Module } from '@nestjs/common';
import { PinsController } from './pins.controller';
import { PinsService } from './pins.service';

/** Pins (and orders) of live shopping: services in every role. */
@Module({ providers: [PinsService], exports: [PinsService] })
export class ShoppingModule {}

/** HTTP routes: `api` role. */
@Module({ imports: [ShoppingModule], controllers: [PinsController] })
export class ShoppingHttpModule {}
