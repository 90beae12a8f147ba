import { Module } from '@nestjs/common';
import { UsersService } from './users.service.js';

/** Provides the demo's user store. */
@Module({ providers: [UsersService], exports: [UsersService] })
export class UsersModule {}
