package org.outlierlab.dataprep.tokenize;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * A SentencePiece {@code .model} (unigram or BPE, with or without byte fallback), giving the ids spm_encode
 * gives. Like spm_encode, each line is encoded on its own: line feeds separate inputs and produce no ids.
 */
public final class SentencePieceTokenizer implements Tokenizer {
  private static final float UNKNOWN_PENALTY = 10.0f;

  private final SentencePieceModel model;
  private final SentencePieceNormalizer normalizer;
  /** Every piece usable in encoding, plus (with id -1) every proper prefix of one: the lattice's trie. */
  private final Map<String, Integer> pieceIds = new HashMap<>();
  private final Set<String> userDefined = new HashSet<>();
  private final float[] scores;
  private final int[] byteIds = new int[256];
  private final float minScore;
  private final float maxScore;
  /** Whether the last id emitted for the current line was the unknown id (runs of unknowns merge into one). */
  private boolean lastWasUnknown;

  private SentencePieceTokenizer(SentencePieceModel model) {
    this.model = model;
    int n = model.pieces.size();
    scores = new float[n];
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    java.util.Arrays.fill(byteIds, -1);
    for (int id = 0; id < n; id++) {
      String piece = model.pieces.get(id);
      int type = model.types.get(id);
      scores[id] = model.scores.get(id);
      if (type == SentencePieceModel.NORMAL) {
        min = Math.min(min, scores[id]);
        max = Math.max(max, scores[id]);
      }
      if (type == SentencePieceModel.USER_DEFINED) {
        userDefined.add(piece);
      }
      if (type == SentencePieceModel.NORMAL || type == SentencePieceModel.USER_DEFINED) {
        for (int end = 1; end < piece.length(); end++) {
          pieceIds.putIfAbsent(piece.substring(0, end), -1);
        }
        pieceIds.put(piece, id);
      }
      if (type == SentencePieceModel.BYTE && piece.length() == 6 && piece.startsWith("<0x")) {
        byteIds[Integer.parseInt(piece.substring(3, 5), 16)] = id;
      }
    }
    minScore = min;
    maxScore = max;
    normalizer = new SentencePieceNormalizer(model, userDefined);
    if (model.byteFallback && java.util.Arrays.stream(byteIds).anyMatch(id -> id < 0)) {
      throw new IllegalArgumentException("SentencePiece model has byte_fallback but lacks <0xNN> byte pieces");
    }
  }

  public static SentencePieceTokenizer load(byte[] modelFile) {
    return new SentencePieceTokenizer(SentencePieceModel.parse(modelFile));
  }

  @Override
  public void encode(CharSequence text, boolean documentStart, IntList out) {
    String s = text.toString();
    int start = 0;
    while (start <= s.length()) {
      int newline = s.indexOf('\n', start);
      int end = newline < 0 ? s.length() : newline;
      if (end > start) {
        encodeLine(s.substring(start, end), out);
      }
      start = end + 1;
    }
  }

  private void encodeLine(String line, IntList out) {
    String normalized = normalizer.normalize(line);
    if (normalized.isEmpty()) {
      return;
    }
    lastWasUnknown = false;
    if (model.type == SentencePieceModel.Type.UNIGRAM) {
      viterbi(normalized, out);
    } else {
      bpe(normalized, out);
    }
  }

  /**
   * Unigram: the highest-scoring segmentation; an uncovered character becomes an unknown piece. The
   * arithmetic follows spm_encode's exactly, ties included: a piece's candidate score is summed in double and
   * compared with the stored float (an unknown's in float), and the first candidate wins a tie.
   */
  private void viterbi(String s, IntList out) {
    int n = s.length();
    float[] best = new float[n + 1];
    int[] from = new int[n + 1];
    int[] ids = new int[n + 1];
    java.util.Arrays.fill(from, -1);
    float unknownScore = minScore - UNKNOWN_PENALTY;
    for (int start = 0; start < n; start = next(s, start)) {
      int charEnd = next(s, start);
      boolean coversChar = false;
      for (int end = charEnd; end <= n; end = next(s, end)) {
        String piece = s.substring(start, end);
        Integer id = pieceIds.get(piece);
        if (id == null) {
          break;
        }
        if (id >= 0) {
          // A user-defined symbol gets a bonus (per UTF-8 byte) so that it always wins.
          double score = userDefined.contains(piece)
              ? (double) (piece.getBytes(StandardCharsets.UTF_8).length * maxScore) - 0.1
              : scores[id];
          relax(best, from, ids, start, end, id, score + best[start]);
          coversChar |= end == charEnd;
        }
        if (end == n) {
          break;
        }
      }
      if (!coversChar) {
        relax(best, from, ids, start, charEnd, model.unkId, unknownScore + best[start]);
      }
    }
    int count = 0;
    int[] path = new int[n];
    for (int end = n; end > 0; end = from[end]) {
      path[count++] = end;
    }
    for (int k = count - 1; k >= 0; k--) {
      int end = path[k];
      emit(s.substring(from[end], end), ids[end], out);
    }
  }

  private static void relax(float[] best, int[] from, int[] ids, int start, int end, int id, double score) {
    if (from[end] < 0 || score > best[end]) {
      best[end] = (float) score;
      from[end] = start;
      ids[end] = id;
    }
  }

  /** BPE: merge the adjacent pair whose union is the highest-scoring piece, the leftmost first among equals. */
  private void bpe(String s, IntList out) {
    int n = s.length();
    int[] begin = new int[n];
    int[] end = new int[n];
    int[] prev = new int[n];
    int[] nextSymbol = new int[n];
    int count = 0;
    for (int pos = 0; pos < n; count++) {
      int length = userSymbolLength(s, pos);
      begin[count] = pos;
      end[count] = pos + (length > 0 ? length : Character.charCount(s.codePointAt(pos)));
      prev[count] = count - 1;
      pos = end[count];
    }
    for (int i = 0; i < count; i++) {
      nextSymbol[i] = i + 1 < count ? i + 1 : -1;
    }
    PriorityQueue<long[]> agenda = new PriorityQueue<>((a, b) -> {
      int byScore = Float.compare(Float.intBitsToFloat((int) b[0]), Float.intBitsToFloat((int) a[0]));
      return byScore != 0 ? byScore : Long.compare(a[1], b[1]);
    });
    for (int i = 0; i + 1 < count; i++) {
      addPair(s, begin, end, i, i + 1, agenda);
    }
    while (!agenda.isEmpty()) {
      long[] top = agenda.poll();
      int left = (int) top[1];
      int right = (int) top[2];
      if (begin[left] < 0 || begin[right] < 0 || end[right] - begin[left] != top[3] || nextSymbol[left] != right) {
        continue;
      }
      end[left] = end[right];
      begin[right] = -1;
      nextSymbol[left] = nextSymbol[right];
      if (nextSymbol[right] >= 0) {
        prev[nextSymbol[right]] = left;
      }
      if (prev[left] >= 0) {
        addPair(s, begin, end, prev[left], left, agenda);
      }
      if (nextSymbol[left] >= 0) {
        addPair(s, begin, end, left, nextSymbol[left], agenda);
      }
    }
    for (int i = 0; i >= 0 && count > 0; i = nextSymbol[i]) {
      String piece = s.substring(begin[i], end[i]);
      Integer id = pieceIds.get(piece);
      emit(piece, id == null || id < 0 ? model.unkId : id, out);
    }
  }

  private void addPair(String s, int[] begin, int[] end, int left, int right, PriorityQueue<long[]> agenda) {
    if (userDefined.contains(s.substring(begin[left], end[left]))
        || userDefined.contains(s.substring(begin[right], end[right]))) {
      return;
    }
    Integer id = pieceIds.get(s.substring(begin[left], end[right]));
    if (id != null && id >= 0) {
      agenda.add(new long[] {Float.floatToIntBits(scores[id]), left, right, end[right] - begin[left]});
    }
  }

  private int userSymbolLength(String s, int pos) {
    for (String symbol : userDefined) {
      if (s.startsWith(symbol, pos)) {
        return symbol.length();
      }
    }
    return 0;
  }

  /** Appends a piece's id; an unknown piece becomes its UTF-8 bytes (byte fallback) or one merged unknown id. */
  private void emit(String piece, int id, IntList out) {
    if (id != model.unkId) {
      out.add(id);
    } else if (model.byteFallback) {
      for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
        out.add(byteIds[b & 0xff]);
      }
    } else if (!lastWasUnknown) {
      out.add(id);
    }
    lastWasUnknown = id == model.unkId && !model.byteFallback;
  }

  private static int next(String s, int pos) {
    return pos + Character.charCount(s.codePointAt(pos));
  }

  @Override
  public int vocabSize() {
    return model.pieces.size();
  }

  @Override
  public int endOfDocumentId() {
    return model.eosId;
  }
}
