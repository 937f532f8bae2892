package org.outlierlab.dataprep.tokenize;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * SentencePiece's normaliser: the model's precompiled character map (a darts-clone double-array trie over
 * UTF-8 bytes whose values point at NUL-terminated replacements), user-defined symbols kept verbatim, extra
 * whitespace removed, spaces escaped as U+2581 and the dummy prefix added, in the order spm_encode applies them.
 */
final class SentencePieceNormalizer {
  private static final byte[] SPACE_SYMBOL = "\u2581".getBytes(StandardCharsets.UTF_8);

  private final int[] trie;
  private final byte[] replacements;
  private final Set<String> userDefined;
  private final int longestUserDefined;
  private final SentencePieceModel model;

  // The current prefix match: its replacement bytes and how much input it consumed.
  private byte[] matchSource;
  private int matchStart;
  private int matchLength;
  private int consumed;

  SentencePieceNormalizer(SentencePieceModel model, Set<String> userDefined) {
    this.model = model;
    this.userDefined = userDefined;
    this.longestUserDefined = userDefined.stream().mapToInt(s -> s.getBytes(StandardCharsets.UTF_8).length).max().orElse(0);
    byte[] map = model.precompiledCharsMap;
    if (map.length == 0) {
      trie = null;
      replacements = null;
    } else {
      int trieBytes = littleEndianInt(map, 0);
      if (trieBytes < 0 || 4 + trieBytes > map.length || trieBytes % 4 != 0) {
        throw new IllegalArgumentException("not a SentencePiece model: corrupt precompiled_charsmap");
      }
      trie = new int[trieBytes / 4];
      for (int i = 0; i < trie.length; i++) {
        trie[i] = littleEndianInt(map, 4 + 4 * i);
      }
      replacements = java.util.Arrays.copyOfRange(map, 4 + trieBytes, map.length);
    }
  }

  String normalize(String text) {
    byte[] in = text.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 8);
    int pos = 0;
    if (model.removeExtraWhitespaces) {
      while (pos < in.length) {
        matchPrefix(in, pos);
        if (!(matchLength == 1 && matchSource[matchStart] == ' ')) {
          break;
        }
        pos += consumed;
      }
    }
    if (pos == in.length) {
      return "";
    }
    if (!model.treatWhitespaceAsSuffix && model.addDummyPrefix) {
      addSpace(out);
    }
    boolean previousIsSpace = model.removeExtraWhitespaces;
    while (pos < in.length) {
      matchPrefix(in, pos);
      int start = matchStart;
      int end = matchStart + matchLength;
      if (model.removeExtraWhitespaces && previousIsSpace) {
        while (start < end && matchSource[start] == ' ') {
          start++;
        }
      }
      if (start < end) {
        for (int i = start; i < end; i++) {
          if (model.escapeWhitespaces && matchSource[i] == ' ') {
            out.writeBytes(SPACE_SYMBOL);
          } else {
            out.write(matchSource[i]);
          }
        }
        previousIsSpace = matchSource[end - 1] == ' ';
      }
      pos += consumed;
    }
    byte[] result = out.toByteArray();
    int length = result.length;
    if (model.removeExtraWhitespaces) {
      byte[] space = model.escapeWhitespaces ? SPACE_SYMBOL : new byte[] {' '};
      while (endsWith(result, length, space)) {
        length -= space.length;
      }
    }
    String normalized = new String(result, 0, length, StandardCharsets.UTF_8);
    if (model.treatWhitespaceAsSuffix && model.addDummyPrefix) {
      normalized += model.escapeWhitespaces ? "\u2581" : " ";
    }
    return normalized;
  }

  private void addSpace(ByteArrayOutputStream out) {
    if (model.escapeWhitespaces) {
      out.writeBytes(SPACE_SYMBOL);
    } else {
      out.write(' ');
    }
  }

  /** Sets the match fields for the longest rule at {@code pos}: user symbol, character map, or one character. */
  private void matchPrefix(byte[] in, int pos) {
    for (int len = Math.min(longestUserDefined, in.length - pos); len > 0; len--) {
      if (userDefined.contains(new String(in, pos, len, StandardCharsets.UTF_8))) {
        setMatch(in, pos, len, len);
        return;
      }
    }
    if (trie != null) {
      int longest = 0;
      int value = 0;
      int node = 0;
      int unit = trie[0];
      node ^= offset(unit);
      for (int i = pos; i < in.length; i++) {
        int label = in[i] & 0xff;
        node ^= label;
        if (node < 0 || node >= trie.length) {
          break;
        }
        unit = trie[node];
        if ((unit & (0x80000000 | 0xff)) != label) {
          break;
        }
        node ^= offset(unit);
        if (((unit >>> 8) & 1) == 1) {
          longest = i + 1 - pos;
          value = trie[node] & 0x7fffffff;
        }
      }
      if (longest > 0) {
        int end = value;
        while (end < replacements.length && replacements[end] != 0) {
          end++;
        }
        matchSource = replacements;
        matchStart = value;
        matchLength = end - value;
        consumed = longest;
        return;
      }
    }
    int charLength = utf8Length(in[pos]);
    int len = Math.min(charLength, in.length - pos);
    setMatch(in, pos, len, len);
  }

  private void setMatch(byte[] source, int start, int length, int consumedBytes) {
    matchSource = source;
    matchStart = start;
    matchLength = length;
    consumed = consumedBytes;
  }

  private static int offset(int unit) {
    return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
  }

  private static int utf8Length(byte lead) {
    int b = lead & 0xff;
    if (b < 0x80) {
      return 1;
    }
    if (b >= 0xF0) {
      return 4;
    }
    return b >= 0xE0 ? 3 : 2;
  }

  private static boolean endsWith(byte[] data, int length, byte[] suffix) {
    if (length < suffix.length) {
      return false;
    }
    for (int i = 0; i < suffix.length; i++) {
      if (data[length - suffix.length + i] != suffix[i]) {
        return false;
      }
    }
    return true;
  }

  private static int littleEndianInt(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
  }
}
