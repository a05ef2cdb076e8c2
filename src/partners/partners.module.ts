import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey } from './api-key.entity';
import { AdminAuthGuard, PartnerAuthGuard } from './auth.guards';
import { Partner } from './partner.entity';
import { AdminPartnersController, PartnerController } from './partners.controller';
import { PartnersService } from './partners.service';

/** Global so every feature's controllers can use PartnerAuthGuard. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([Partner, ApiKey])],
  providers: [PartnersService, PartnerAuthGuard, AdminAuthGuard],
  exports: [PartnersService, PartnerAuthGuard, AdminAuthGuard],
})
export class PartnersModule {}

/** HTTP routes: `api` role only. */
@Module({ controllers: [AdminPartnersController, PartnerController] })
export class PartnersHttpModule {}
