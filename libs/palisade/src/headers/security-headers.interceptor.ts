import { Injectable, InternalServerErrorException, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { errorBody } from '../common/error-body.js';
import { getRequest, getResponse, headerTargetOf, nodeRequestOf } from '../common/http-context.js';
import type { Handler } from '../common/routes.js';
import { SecurityHeadersResolver } from './security-headers.resolver.js';
import { SecurityHeadersService } from './security-headers.service.js';

/**
 * The per-route layer of the security headers: applies the route's `@SecurityHeaders()` (a relaxed
 * CSP for one HTML page, say) and sets `Cache-Control` (default `no-store`) on the responses of
 * requests a guard authenticated (a principal on `request.user`). The module's headers are already
 * on every response, errors included; this only changes them for what the handler answers.
 *
 * Registered app-wide by `PalisadeModule.forRoot({ ..., global: true })`; otherwise apply it with
 * `@UseInterceptors(SecurityHeadersInterceptor)` where routes use `@SecurityHeaders()`.
 *
 * @example
 * \@Controller('pages') \@UseInterceptors(SecurityHeadersInterceptor) export class PagesController {}
 */
@Injectable()
export class SecurityHeadersInterceptor implements NestInterceptor {
  constructor(
    private readonly resolver: SecurityHeadersResolver,
    private readonly headers: SecurityHeadersService,
  ) {}

  /**
   * Writes the route's headers on HTTP requests, then runs the handler unchanged. A header that
   * cannot be written is reported (`headers.write-failed`) and answered with a 500, never skipped.
   */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      try {
        this.applyRouteHeaders(context);
      } catch (error) {
        this.headers.reportWriteFailure(nodeRequestOf(getRequest(context)), error);
        throw new InternalServerErrorException(errorBody(500, 'The security headers of the response could not be written'));
      }
    }
    return next.handle();
  }

  /** Writes the route's headers before the handler runs. Override to add per-request headers. */
  protected applyRouteHeaders(context: ExecutionContext): void {
    const request = getRequest(context);
    const raw = nodeRequestOf(request);
    const response = headerTargetOf(getResponse(context));
    const set = this.resolver.resolve(context.getHandler() as Handler, context.getClass());
    if (set) this.headers.applyRoute(raw, response, set);
    else this.headers.applyDefaults(raw, response);
    if (request.user !== undefined && request.user !== null) this.headers.applyAuthenticated(raw, response);
  }
}
