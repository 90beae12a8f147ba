import { Controller, Get, Header, Req, StreamableFile, type Type } from '@nestjs/common';
import { Public } from '../auth/auth.decorator.js';
import { CspNonce } from '../headers/csp-nonce.decorator.js';
import type { ContentSecurityPolicyOptions } from '../headers/headers-options.interface.js';
import { SecurityHeaders } from '../headers/security-headers.decorator.js';
import { Throttle, type ThrottleTierOverride } from '../throttle/throttle.decorator.js';
import type { GraphiqlAsset, PackagedAssetName } from './graphiql.assets.js';
import { renderGraphiqlPage } from './graphiql.page.js';

/** The validated options a controller is built from. @internal */
export interface GraphiqlControllerConfig {
  /** Controller path, without the leading slash (`graphiql`, `tools/graphiql`). */
  readonly path: string;
  readonly endpoint: string;
  readonly title: string;
  readonly throttle: Readonly<Record<string, ThrottleTierOverride>> | undefined;
  readonly contentSecurityPolicy: ContentSecurityPolicyOptions;
  readonly assets: ReadonlyMap<PackagedAssetName | 'start.js', GraphiqlAsset>;
}

/** The bundles do not change while the app runs: browsers may keep them for an hour (seconds). */
const ASSET_CACHE_CONTROL = 'public, max-age=3600';

/**
 * Builds the controller of the GraphiQL page for `config.path` (a controller's path is fixed when
 * its class is decorated, hence a class per module). Every route is `@Public()` (the page and its
 * bundles hold no secret; the token is the user's, typed in the page), throttled (the given tiers,
 * else the module's; per client address, as for any anonymous request) and served under the
 * page's own policy through `@SecurityHeaders()`, so no other route's policy changes. @internal
 */
export function createGraphiqlController(config: GraphiqlControllerConfig): Type<unknown> {
  const file = (name: PackagedAssetName | 'start.js'): StreamableFile => {
    const asset = config.assets.get(name)!;
    return new StreamableFile(asset.body, { type: asset.type, length: asset.body.length });
  };
  const segment = config.path.slice(config.path.lastIndexOf('/') + 1);
  const throttle = config.throttle === undefined ? [] : [Throttle({ ...config.throttle })];

  @Controller(config.path)
  @Public()
  @SecurityHeaders({ contentSecurityPolicy: config.contentSecurityPolicy })
  class GraphiqlController {
    /** The page: rendered per response, with its nonce; never cached (a nonce is used once). */
    @Get()
    @Header('Content-Type', 'text/html; charset=utf-8')
    @Header('Cache-Control', 'no-store')
    page(@CspNonce() nonce: string, @Req() request: { originalUrl?: string; url?: string }): string {
      // Express's `originalUrl`, Fastify's `url`: the path as requested, before any mount point is cut.
      const [path = ''] = (request.originalUrl ?? request.url ?? '').split('?');
      return renderGraphiqlPage({ nonce, segment, trailingSlash: path.endsWith('/'), endpoint: config.endpoint, title: config.title });
    }

    @Get('react.production.min.js')
    @Header('Cache-Control', ASSET_CACHE_CONTROL)
    react(): StreamableFile {
      return file('react.production.min.js');
    }

    @Get('react-dom.production.min.js')
    @Header('Cache-Control', ASSET_CACHE_CONTROL)
    reactDom(): StreamableFile {
      return file('react-dom.production.min.js');
    }

    @Get('graphiql.min.js')
    @Header('Cache-Control', ASSET_CACHE_CONTROL)
    graphiql(): StreamableFile {
      return file('graphiql.min.js');
    }

    @Get('graphiql.min.css')
    @Header('Cache-Control', ASSET_CACHE_CONTROL)
    stylesheet(): StreamableFile {
      return file('graphiql.min.css');
    }

    @Get('start.js')
    @Header('Cache-Control', ASSET_CACHE_CONTROL)
    start(): StreamableFile {
      return file('start.js');
    }
  }
  for (const decorate of throttle) decorate(GraphiqlController);
  return GraphiqlController;
}
