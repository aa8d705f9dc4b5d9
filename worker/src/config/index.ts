export * from "./schema.js";
export * from "./secrets.js";
export * from "./ids.js";
export * from "./validate.js";
export * from "./load.js";
