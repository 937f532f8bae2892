package org.outlierlab.dataprep.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} byte-level BPE (GPT-2, CodeParrot, the CodeSearchNet tokenizer, …):
 * GPT-2 pre-tokenisation, bytes mapped to printable characters, then ranked merges. Text is encoded as
 * ordinary text: a literal {@code <|endoftext|>} in a document is not turned into the special id (like
 * tiktoken's {@code encode_ordinary}), so only the job places end-of-document ids.
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {
  private static final int CACHE_LIMIT = 1 << 17;

  private final int[] byteIds = new int[256];
  private final BpeMerges merges;
  private final int vocabSize;
  private final int endOfDocumentId;
  private final boolean addPrefixSpace;
  private final Map<String, int[]> cache = new HashMap<>();
  private int[] symbols = new int[64];

  private ByteLevelBpeTokenizer(
      Map<String, Integer> vocab, LongLongMap pairs, int vocabSize, int eod, boolean addPrefixSpace) {
    char[] byteChars = byteToUnicode();
    for (int b = 0; b < 256; b++) {
      Integer id = vocab.get(String.valueOf(byteChars[b]));
      if (id == null) {
        throw new IllegalArgumentException(
            "tokenizer.json is not a complete byte-level BPE: no token for byte " + b);
      }
      byteIds[b] = id;
    }
    this.merges = new BpeMerges(pairs);
    this.vocabSize = vocabSize;
    this.endOfDocumentId = eod;
    this.addPrefixSpace = addPrefixSpace;
  }

  /**
   * Loads a tokenizer.json. {@code eodToken} names the end-of-document token ("auto": {@code <|endoftext|>},
   * else the only special added token).
   */
  public static ByteLevelBpeTokenizer load(byte[] json, String eodToken) throws IOException {
    JsonNode root = new ObjectMapper().readTree(json);
    JsonNode model = root.path("model");
    require(model.path("type").asText("BPE").equals("BPE"),
        "model.type is " + model.path("type") + "; supported: BPE");
    require(root.path("normalizer").isNull() || root.path("normalizer").isMissingNode(),
        "normalizer " + root.path("normalizer").path("type") + " is not supported; supported: none");
    boolean[] prefixSpace = new boolean[1];
    require(isByteLevel(root.path("pre_tokenizer"), prefixSpace),
        "pre_tokenizer must be ByteLevel with use_regex=true (the GPT-2 pattern)");
    require(model.path("continuing_subword_prefix").asText("").isEmpty()
            && model.path("end_of_word_suffix").asText("").isEmpty()
            && (model.path("dropout").isNull() || model.path("dropout").isMissingNode()),
        "BPE with dropout, continuing_subword_prefix or end_of_word_suffix is not supported");

    Map<String, Integer> vocab = new HashMap<>();
    int maxId = -1;
    for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      vocab.put(e.getKey(), e.getValue().asInt());
      maxId = Math.max(maxId, e.getValue().asInt());
    }
    Integer eod = null;
    Integer onlySpecial = null;
    int specials = 0;
    for (JsonNode added : root.path("added_tokens")) {
      int id = added.path("id").asInt();
      maxId = Math.max(maxId, id);
      String content = added.path("content").asText();
      if (content.equals(eodToken) || ("auto".equals(eodToken) && content.equals("<|endoftext|>"))) {
        eod = id;
      }
      if (added.path("special").asBoolean()) {
        specials++;
        onlySpecial = id;
      }
    }
    if (eod == null && "auto".equals(eodToken) && specials == 1) {
      eod = onlySpecial;
    }
    if (eod == null) {
      eod = vocab.get(eodToken);
    }
    require(eod != null, "no end-of-document token '" + eodToken
        + "' among its tokens; set data_prep.eod_token to one of its added tokens");

    JsonNode mergeList = model.path("merges");
    LongLongMap pairs = new LongLongMap(mergeList.size());
    int rank = 0;
    for (JsonNode merge : mergeList) {
      String left;
      String right;
      if (merge.isArray()) {
        left = merge.get(0).asText();
        right = merge.get(1).asText();
      } else {
        String text = merge.asText();
        int space = text.indexOf(' ', 1);
        require(space > 0, "malformed merge '" + text + "'");
        left = text.substring(0, space);
        right = text.substring(space + 1);
      }
      Integer l = vocab.get(left);
      Integer r = vocab.get(right);
      Integer m = vocab.get(left + right);
      require(l != null && r != null && m != null, "merge '" + left + " " + right + "' uses unknown tokens");
      long key = BpeMerges.pairKey(l, r);
      // The first (lowest-rank) occurrence of a pair wins, as in the reference implementation.
      if (pairs.get(key, -1) == -1) {
        pairs.put(key, ((long) rank << 32) | m);
      }
      rank++;
    }
    return new ByteLevelBpeTokenizer(vocab, pairs, maxId + 1, eod, prefixSpace[0]);
  }

  private static boolean isByteLevel(JsonNode pre, boolean[] addPrefixSpace) {
    if ("Sequence".equals(pre.path("type").asText())) {
      JsonNode steps = pre.path("pretokenizers");
      return steps.size() == 1 && isByteLevel(steps.get(0), addPrefixSpace);
    }
    addPrefixSpace[0] = pre.path("add_prefix_space").asBoolean(false);
    return "ByteLevel".equals(pre.path("type").asText()) && pre.path("use_regex").asBoolean(true);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("unsupported tokenizer.json: " + message);
    }
  }

  @Override
  public void encode(CharSequence text, boolean documentStart, IntList out) {
    String s = text.toString();
    if (documentStart && addPrefixSpace && !s.isEmpty() && !Gpt2PreTokenizer.isWhiteSpace(s.codePointAt(0))) {
      s = " " + s;
    }
    String str = s;
    Gpt2PreTokenizer.split(str, (start, end) -> encodePiece(str.substring(start, end), out));
  }

  private void encodePiece(String piece, IntList out) {
    int[] ids = cache.get(piece);
    if (ids == null) {
      ids = bpe(piece);
      if (cache.size() >= CACHE_LIMIT) {
        cache.clear();
      }
      cache.put(piece, ids);
    }
    out.addAll(ids);
  }

  private int[] bpe(String piece) {
    byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
    if (symbols.length < bytes.length) {
      symbols = new int[Math.max(bytes.length, 2 * symbols.length)];
    }
    for (int i = 0; i < bytes.length; i++) {
      symbols[i] = byteIds[bytes[i] & 0xff];
    }
    return merges.merge(symbols, bytes.length);
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public int endOfDocumentId() {
    return endOfDocumentId;
  }

  /** GPT-2's reversible map from bytes to printable characters: printable Latin-1 maps to itself. */
  private static char[] byteToUnicode() {
    char[] map = new char[256];
    int shifted = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      map[b] = printable ? (char) b : (char) (256 + shifted++);
    }
    return map;
  }
}
