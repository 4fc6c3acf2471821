export { createLabelingHandlers } from './handlers';
export { labelingApiService } from './service';
export { taskLeasesRetention } from './retention';
// For @alder/fixtures, which seeds projects and labels through the API's own writes.
export { appendAnnotations, markLabeled, type AnnotationInput } from './tasks.repository';
export { insertProject, type ProjectSettings } from './projects.repository';
