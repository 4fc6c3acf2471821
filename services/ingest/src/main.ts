import { runServiceMain } from '@alder/host';
import { ingestService } from './service';

await runServiceMain(ingestService);
