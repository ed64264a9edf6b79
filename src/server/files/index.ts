export { createFilesHandler, type FilesHandler, type FilesHandlerOptions } from './handler.js';
