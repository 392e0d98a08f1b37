// Nothing is exported until the server is built; see README.md.
export {};
