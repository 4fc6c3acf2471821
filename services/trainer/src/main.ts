import { runServiceMain } from '@alder/host';
import { trainerService } from './service';

await runServiceMain(trainerService);
