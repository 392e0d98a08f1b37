// Nothing is exported until this package is built; see README.md.
export {};
