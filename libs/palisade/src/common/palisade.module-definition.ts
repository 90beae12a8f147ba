import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PalisadeModuleExtras, PalisadeModuleOptions } from './palisade-options.interface.js';

/** @internal */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<PalisadeModuleOptions>({
  moduleName: 'Palisade',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createPalisadeOptions')
  .setExtras<PalisadeModuleExtras>({ global: false }, (definition) => definition)
  .build();
