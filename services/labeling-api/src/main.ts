import { runServiceMain } from '@alder/host';
import { labelingApiService } from './service';

await runServiceMain(labelingApiService);
