/** Public face of src/storage: delete files by URL, only below allowed roots. */
export { createStorage, deleteFiles, type ClassifiedUrl, type Storage, type ListOptions } from './storage.js';
export { ListingUnsupportedError, FILES_LIST_PATH, type ListedFile } from './list.js';
export { storageContextFromConfig, type StorageContext, type StorageContextOptions, type StorageLog } from './context.js';
export { isDone, REFUSAL, type FileOutcome, type FileStatus } from './outcome.js';
export { classifyUrl, looksLikeFolder, type Backend, type ClassifyHints, type StorageLocation } from './url.js';
export { AllowList, parseRoot, type AllowRoot, type AllowListInput } from './allow-list.js';
