import { Reflector } from '@nestjs/core';
import type { SecurityHeadersOverride } from './headers-options.interface.js';

/** @internal One entry per `@SecurityHeaders(...)`, in the order they apply (the top one last). */
export const SecurityHeadersMetadata = Reflector.createDecorator<SecurityHeadersOverride[]>();
