package org.outlierlab.dataprep.tokenize;

/**
 * Splits text into the pieces of the GPT-2 pattern
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}
 * with Unicode classes, as Hugging Face's ByteLevel pre-tokenizer does. A hand-written scanner rather than
 * java.util.regex: it is several times faster, and {@code \s} here must be Unicode White_Space, not Java's.
 */
final class Gpt2PreTokenizer {

  interface PieceSink {
    void piece(int start, int end);
  }

  private Gpt2PreTokenizer() {}

  static void split(String s, PieceSink sink) {
    int n = s.length();
    int i = 0;
    while (i < n) {
      int end = pieceEnd(s, i, n);
      sink.piece(i, end);
      i = end;
    }
  }

  private static int pieceEnd(String s, int i, int n) {
    int c = s.codePointAt(i);
    int contraction = contractionEnd(s, i, n);
    if (contraction > 0) {
      return contraction;
    }
    int start = i;
    int body = c;
    if (c == ' ' && i + 1 < n) {
      body = s.codePointAt(i + 1);
      if (isWhiteSpace(body)) {
        body = ' ';
      } else {
        start = i + 1;
      }
    }
    if (!isWhiteSpace(body)) {
      CharClass cls = CharClass.of(body);
      int j = start;
      while (j < n) {
        int cp = s.codePointAt(j);
        if (isWhiteSpace(cp) || CharClass.of(cp) != cls) {
          break;
        }
        j += Character.charCount(cp);
      }
      return j;
    }
    // A whitespace run: all of it if it ends the text, else all but its last character (which then
    // prefixes the next piece or, if not a space, stands alone); a single character stands alone.
    int j = i;
    int last = i;
    while (j < n) {
      int cp = s.codePointAt(j);
      if (!isWhiteSpace(cp)) {
        break;
      }
      last = j;
      j += Character.charCount(cp);
    }
    if (j == n || last == i) {
      return j;
    }
    return last;
  }

  private static int contractionEnd(String s, int i, int n) {
    if (s.charAt(i) != '\'' || i + 1 >= n) {
      return -1;
    }
    char a = s.charAt(i + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') {
      return i + 2;
    }
    if (i + 2 < n) {
      char b = s.charAt(i + 2);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
        return i + 3;
      }
    }
    return -1;
  }

  private enum CharClass {
    LETTER,
    NUMBER,
    OTHER;

    static CharClass of(int cp) {
      if (Character.isLetter(cp)) {
        return LETTER;
      }
      int type = Character.getType(cp);
      if (type == Character.DECIMAL_DIGIT_NUMBER
          || type == Character.LETTER_NUMBER
          || type == Character.OTHER_NUMBER) {
        return NUMBER;
      }
      return OTHER;
    }
  }

  /** The Unicode White_Space property (what {@code \s} means in the Rust/Oniguruma regex). */
  static boolean isWhiteSpace(int cp) {
    if (cp <= 0x20) {
      return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    }
    return cp == 0x85
        || cp == 0xA0
        || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200A)
        || cp == 0x2028
        || cp == 0x2029
        || cp == 0x202F
        || cp == 0x205F
        || cp == 0x3000;
  }
}
