package org.outlierlab.dataprep.sequence;

import java.io.IOException;
import org.outlierlab.dataprep.corpus.DocumentInfo;

/** Where finished sequences go; {@code firstDocument} is the document the sequence's first token came from. */
public interface SequenceSink {
  void write(String split, long seqId, int[] tokens, DocumentInfo firstDocument) throws IOException;
}
