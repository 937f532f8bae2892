package org.outlierlab.dataprep.corpus;

/**
 * Where a document came from: its file, its index among that file's records, and (CodeParrot) the
 * repository, path and licence of the source file it holds; those three are null when absent.
 */
public record DocumentInfo(String source, long index, String repoName, String path, String license) {}
