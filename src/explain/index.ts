// Public API of src/explain (filled in by its owner).
export {};
