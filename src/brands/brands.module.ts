import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Brand } from './brand.entity';
import { BrandsController } from './brands.controller';
import { BrandsService } from './brands.service';

@Module({
  imports: [TypeOrmModule.forFeature([Brand])],
  providers: [BrandsService],
  exports: [BrandsService],
})
export class BrandsModule {}

/** HTTP routes: `api` role only. */
@Module({ imports: [BrandsModule], controllers: [BrandsController] })
export class BrandsHttpModule {}
