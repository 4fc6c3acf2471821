import { runHttpService } from '@alder/http';
import { createIngestHandlers } from './index';

runHttpService('ingest', createIngestHandlers);
