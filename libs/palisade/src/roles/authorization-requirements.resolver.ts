import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef, Reflector } from '@nestjs/core';
import { RouteResolver } from '../common/route-resolver.js';
import { allHandlers, type Handler } from '../common/routes.js';
import { ROLES_OPTIONS } from './roles.constants.js';
import type { PolicyFunction, PolicyHandler, Policy } from './policy.interface.js';
import { PoliciesMetadata } from './policy.decorator.js';
import { checkRoleNames, satisfyingRoles, type NormalizedRolesOptions } from './role-hierarchy.js';
import { RolesMetadata } from './roles.decorator.js';
import { ScopesMetadata } from './scopes.decorator.js';

/** A route's authorization requirement, resolved once per handler. @internal */
export interface ResolvedAuthorization {
  /** Each entry: the held roles that satisfy one `@Roles(...)` group (hierarchy applied). */
  readonly roleGroups: readonly ReadonlySet<string>[];
  /** The `@Roles(...)` groups as declared (controller's first), for documentation. */
  readonly declaredRoles: readonly (readonly string[])[];
  /** Names of the policies (class or function name), in the order they run, for documentation. */
  readonly policyNames: readonly string[];
  /** Every required scope. */
  readonly scopes: readonly string[];
  /** `scope="…"` attribute value of the `insufficient_scope` challenge. */
  readonly scopeChallenge: string;
  /** Policies in the order they run (controller's first), resolved to callables. */
  readonly policies: readonly PolicyFunction[];
  /** True when there is nothing to check. */
  readonly empty: boolean;
}

type PolicyClass = Extract<Policy, abstract new (...args: never[]) => PolicyHandler>;

function isPolicyClass(policy: Policy): policy is PolicyClass {
  return typeof policy === 'function' && typeof (policy.prototype as Partial<PolicyHandler> | undefined)?.can === 'function';
}

/**
 * Reads `@Roles`, `@Scopes` and `@Policy` of a handler and its controller once, applies the role
 * hierarchy, and resolves policy classes through dependency injection. Every route is resolved at
 * application bootstrap, so an unknown role or an unresolvable policy stops the app at startup.
 * @internal
 */
@Injectable()
export class AuthorizationRequirementsResolver extends RouteResolver<ResolvedAuthorization> {
  private readonly policyInstances = new Map<Policy, PolicyFunction>();

  constructor(
    reflector: Reflector,
    @Inject(ROLES_OPTIONS) private readonly roles: NormalizedRolesOptions,
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
  ) {
    super(reflector, discovery, scanner);
  }

  private prepared: Promise<void> | undefined;

  /** True once every handler's requirement (policy classes included) has been resolved. */
  get ready(): boolean {
    return this.isReady;
  }

  private isReady = false;

  override onApplicationBootstrap(): Promise<void> {
    return this.prepare();
  }

  /** Resolves every handler's requirement (policy classes first); once, whoever asks first. */
  prepare(): Promise<void> {
    return (this.prepared ??= this.resolveAll());
  }

  private async resolveAll(): Promise<void> {
    const routes: [Handler, object, ModuleRef | undefined][] = allHandlers(this.discovery, this.scanner).map((e) => [e.handler, e.owner, e.moduleRef]);
    // Policy classes are resolved once, in the scope of the module that declares the controller.
    const classes = new Map<PolicyClass, ModuleRef>();
    for (const [handler, controller, moduleRef] of routes) {
      for (const target of [controller, handler]) {
        for (const group of this.reflector.get(PoliciesMetadata, target as Handler) ?? []) {
          for (const policy of group) if (isPolicyClass(policy) && !classes.has(policy)) classes.set(policy, moduleRef ?? this.moduleRef);
        }
      }
    }
    await Promise.all([...classes].map(([policy, moduleRef]) => this.instantiate(policy, moduleRef)));
    for (const [handler, controller] of routes) this.resolve(handler, controller);
    this.isReady = true;
  }

  private async instantiate(policy: PolicyClass, moduleRef: ModuleRef): Promise<void> {
    if (this.policyInstances.has(policy)) return;
    let instance: PolicyHandler;
    try {
      instance = moduleRef.get(policy, { strict: false });
    } catch {
      try {
        instance = await moduleRef.create(policy);
      } catch (error) {
        throw new Error(
          `PalisadeModule: the policy ${policy.name} could not be created through dependency injection (${error instanceof Error ? error.message : String(error)}); make its dependencies available or register it as a provider.`,
          { cause: error },
        );
      }
    }
    this.policyInstances.set(policy, (context) => instance.can(context));
  }

  protected compute(handler: Handler, controller: object, where: string): ResolvedAuthorization {
    const targets = [controller as Handler, handler];
    const roles = this.roles;
    const roleGroups: ReadonlySet<string>[] = [];
    const scopes = new Set<string>();
    const policies: PolicyFunction[] = [];
    const declaredRoles: (readonly string[])[] = [];
    const policyNames: string[] = [];
    for (const target of targets) {
      for (const group of this.reflector.get(RolesMetadata, target) ?? []) {
        if (group.length === 0) throw new Error(`PalisadeModule: @Roles() on ${where} names no role; name at least one.`);
        checkRoleNames(group, roles, `@Roles() on ${where}`);
        roleGroups.push(satisfyingRoles(group, roles));
        declaredRoles.push(Object.freeze([...group]));
      }
      for (const group of this.reflector.get(ScopesMetadata, target) ?? []) {
        if (group.length === 0) throw new Error(`PalisadeModule: @Scopes() on ${where} names no scope; name at least one.`);
        for (const scope of group) {
          if (typeof scope !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
            throw new Error(
              `PalisadeModule: @Scopes() on ${where} has the scope ${JSON.stringify(scope)}; scopes are visible ASCII without spaces, '"' or '\\' (RFC 6749 §3.3).`,
            );
          }
          scopes.add(scope);
        }
      }
      for (const group of this.reflector.get(PoliciesMetadata, target) ?? []) {
        if (group.length === 0) throw new Error(`PalisadeModule: @Policy() on ${where} names no policy.`);
        for (const policy of group) {
          policies.push(this.policyFunction(policy, where));
          policyNames.push(policy.name || 'anonymous policy');
        }
      }
    }
    const scopeList = Object.freeze([...scopes]);
    return Object.freeze({
      roleGroups: Object.freeze(roleGroups),
      declaredRoles: Object.freeze(declaredRoles),
      policyNames: Object.freeze(policyNames),
      scopes: scopeList,
      scopeChallenge: scopeList.join(' '),
      policies: Object.freeze(policies),
      empty: roleGroups.length === 0 && scopeList.length === 0 && policies.length === 0,
    });
  }

  private policyFunction(policy: Policy, where: string): PolicyFunction {
    if (typeof policy !== 'function') throw new Error(`PalisadeModule: @Policy() on ${where} got ${String(policy)}; expected a policy class or a function.`);
    if (!isPolicyClass(policy)) return policy as PolicyFunction;
    const resolved = this.policyInstances.get(policy);
    if (!resolved) throw new Error(`PalisadeModule: the policy ${policy.name} on ${where} was not resolved at startup.`);
    return resolved;
  }
}
