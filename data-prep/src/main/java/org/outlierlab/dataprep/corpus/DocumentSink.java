package org.outlierlab.dataprep.corpus;

/** Receives documents as a reader streams them: begin, text segments, end; or a bad record. */
public interface DocumentSink {
  void begin(DocumentInfo info);

  /**
   * A piece of the open document. Segments are cut only right after a line feed followed by a
   * non-whitespace character, so tokenising them one by one equals tokenising the whole document.
   */
  void text(CharSequence segment);

  void end();

  /** A record that cannot be read, counted under {@code reason}; discards the open document, if any. */
  void bad(String reason);
}
