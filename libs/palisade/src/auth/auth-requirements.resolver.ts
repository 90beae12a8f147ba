import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { RouteResolver } from '../common/route-resolver.js';
import type { Handler } from '../common/routes.js';
import { AUTH_OPTIONS } from './auth.constants.js';
import { assertSchemeConfigured, type NormalizedAuthOptions } from './auth-options.normalizer.js';
import { AuthMetadata, PublicMetadata, RequiresPrincipalMetadata } from './auth.decorator.js';
import type { AuthScheme } from './principal.interface.js';

/** A route's authentication requirement, resolved once per handler. @internal */
export interface ResolvedAuthRequirement {
  readonly isPublic: boolean;
  readonly schemes: readonly AuthScheme[];
  readonly optional: boolean;
  /** `WWW-Authenticate` value when no credential was presented. */
  readonly missingChallenge: string;
}

/**
 * Reads `@Public` and `@Auth` once per handler and caches the result. Every controller route is
 * resolved at application bootstrap, so an unknown or unconfigured scheme stops the app at startup
 * instead of failing the first request.
 * @internal
 */
@Injectable()
export class AuthRequirementsResolver extends RouteResolver<ResolvedAuthRequirement> {
  constructor(
    reflector: Reflector,
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    @Inject(AUTH_OPTIONS) private readonly auth: NormalizedAuthOptions,
  ) {
    super(reflector, discovery, scanner);
  }

  protected compute(handler: Handler, controller: object, where: string): ResolvedAuthRequirement {
    const { auth } = this;
    const onHandler = this.reflector.get(AuthMetadata, handler);
    const onController = this.reflector.get(AuthMetadata, controller as Handler);
    const handlerPublic = this.reflector.get(PublicMetadata, handler) === true;
    const controllerPublic = this.reflector.get(PublicMetadata, controller as Handler) === true;
    const handlerRequiresPrincipal = onHandler !== undefined || this.reflector.get(RequiresPrincipalMetadata, handler) === true;
    if (handlerPublic && handlerRequiresPrincipal) {
      throw new Error(
        `PalisadeModule: ${where} is @Public() but also declares @Auth, @Roles, @Scopes or @Policy; remove @Public() or the requirement (a public route never has a caller to check).`,
      );
    }
    // @Public() on a controller covers the handlers that declare no requirement of their own.
    const isPublic = handlerPublic || (controllerPublic && !handlerRequiresPrincipal);
    const schemes = [...new Set(onHandler?.schemes ?? onController?.schemes ?? auth.defaultSchemes)];
    for (const scheme of schemes) assertSchemeConfigured(scheme, auth.configured, `@Auth() on ${where}`);
    // A route without a scheme can only refuse its callers: the startup audit stops the app when a
    // guard of Palisade runs on one (a route no guard reaches needs none).
    const optional = onHandler?.optional ?? onController?.optional ?? false;
    const missingChallenge = schemes.map((scheme) => auth.challenges.get(scheme)?.missing ?? '').join(', ');
    return Object.freeze({ isPublic, schemes: Object.freeze(schemes), optional, missingChallenge });
  }
}
