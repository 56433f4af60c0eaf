// Public API of src/mesh (filled in by its owner).
export {};
