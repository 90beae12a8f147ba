import { Strategy } from 'passport-strategy';

type Verified = (error: unknown, user?: unknown, info?: unknown) => void;

/**
 * A minimal passport strategy that hands the request to a verify callback; the API-key and Basic
 * strategies build on it through `@nestjs/passport`'s `PassportStrategy` mixin.
 * @internal
 */
export class CallbackStrategy extends Strategy {
  constructor(private readonly verify: (request: unknown, done: Verified) => void) {
    super();
  }

  override authenticate(request: unknown): void {
    this.verify(request, (error, user, info) => {
      if (error) this.error(error as Error);
      else if (user) this.success(user as Express.User, info as object | undefined);
      else this.fail(info, 401);
    });
  }
}
