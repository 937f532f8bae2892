package org.outlierlab.dataprep.tokenize;

/**
 * Text to token ids. Documents arrive as segments cut only right after a line feed that is followed by a
 * non-whitespace character (see {@code corpus.SegmentedText}); every tokeniser here gives the same ids for a
 * document whether it sees it whole or in such segments. Not thread-safe: one instance per task thread.
 */
public interface Tokenizer {

  /** Appends the ids of {@code text} to {@code out}; {@code documentStart} marks a document's first segment. */
  void encode(CharSequence text, boolean documentStart, IntList out);

  /** Number of ids, i.e. one more than the largest id this tokeniser can produce. */
  int vocabSize();

  /** The end-of-document id placed between documents in pack mode. */
  int endOfDocumentId();
}
