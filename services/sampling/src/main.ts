import { runServiceMain } from '@alder/host';
import { samplingService } from './service';

await runServiceMain(samplingService);
