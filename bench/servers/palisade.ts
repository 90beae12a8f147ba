// Stack (b): the demo stack with Palisade, counters in memory — JWT + roles + throttling + all
// security headers, imported from '@palisade/nest' (libs/palisade/dist) exactly as an application does.
import { PalisadeBenchModule, palisadeBenchOptions } from './palisade.app.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

runServer(() => startBenchServer('palisade', PalisadeBenchModule.register(palisadeBenchOptions('memory')), adapterFromArgs()));
