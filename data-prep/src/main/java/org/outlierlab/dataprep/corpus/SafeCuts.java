package org.outlierlab.dataprep.corpus;

/**
 * Where a document may be cut into segments without changing any tokeniser's output: right after a line
 * feed that is a whitespace run of its own and is followed by a non-whitespace character ("x\n|y").
 * Whitespace runs split differently at the end of a text than before a word, hence the lone line feed.
 */
public final class SafeCuts {
  private SafeCuts() {}

  /** The last safe cut in {@code s}, or -1. */
  public static int last(CharSequence s) {
    for (int k = s.length() - 1; k > 1; k--) {
      if (s.charAt(k - 1) == '\n' && !isSpace(s.charAt(k)) && !isSpace(s.charAt(k - 2))) {
        return k;
      }
    }
    return -1;
  }

  /** A superset of Unicode White_Space: treating more as space only makes cuts rarer, never wrong. */
  private static boolean isSpace(char c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
  }
}
