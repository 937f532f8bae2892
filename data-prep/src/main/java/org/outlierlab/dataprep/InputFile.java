package org.outlierlab.dataprep;

import java.io.Serializable;

/** One input file: its URI, its size in bytes, and its split when fixed by a list (else null: by hash). */
public record InputFile(String uri, long length, String split) implements Serializable {}
