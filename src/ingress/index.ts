// Public API of src/ingress (filled in by its owner).
export {};
