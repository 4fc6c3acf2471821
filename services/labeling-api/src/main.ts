import { runHttpService } from '@alder/http';
import { createLabelingHandlers } from './index';

runHttpService('labeling-api', createLabelingHandlers);
