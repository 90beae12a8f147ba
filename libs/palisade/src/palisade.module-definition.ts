import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PalisadeModuleExtras, PalisadeModuleOptions } from './palisade-options.interface.js';

/**
 * A class that builds Palisade's options, for `PalisadeModule.forRootAsync({ useClass })` (Nest
 * instantiates it with its dependencies injected) or `useExisting` (an existing provider). The
 * options it returns are validated like those of `forRoot()`: an unknown key or a bad value stops
 * the app at startup.
 *
 * @example
 * \@Injectable()
 * export class SecurityConfig implements PalisadeOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createPalisadeOptions(): PalisadeModuleOptions {
 *     return { auth: { jwt: { secret: this.config.getOrThrow('JWT_SECRET') } } };
 *   }
 * }
 *
 * \@Module({ imports: [PalisadeModule.forRootAsync({ imports: [ConfigModule], useClass: SecurityConfig, global: true })] })
 * export class AppModule {}
 */
export interface PalisadeOptionsFactory {
  /** Returns the module's options, or a promise of them (resolved once, at startup). */
  createPalisadeOptions(): PalisadeModuleOptions | Promise<PalisadeModuleOptions>;
}

/** The factory method Nest calls on a `useClass` / `useExisting` provider; {@link PalisadeOptionsFactory} names it. */
const FACTORY_METHOD = 'createPalisadeOptions' satisfies keyof PalisadeOptionsFactory;

/** @internal */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<PalisadeModuleOptions>({
  moduleName: 'Palisade',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName(FACTORY_METHOD)
  .setExtras<PalisadeModuleExtras>({ global: false }, (definition) => definition)
  .build();
