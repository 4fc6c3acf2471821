export { assets, mainEntries, sideEntryPattern, sourceOnly, type BundleEntry } from './build.entries';
export { buildBundles, findEntries, repoRoot, type BuildManifest } from './build';
export { stageRuntime, workspaceProjects } from './stage';
