package org.outlierlab.dataprep.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.outlierlab.dataprep.TestData;

/** GPT-2 BPE against the reference encoder (Hugging Face tokenizers, through DJL) on the same file. */
class ByteLevelBpeTokenizerTest {
  private static HuggingFaceTokenizer reference;
  private static ByteLevelBpeTokenizer gpt2;

  @BeforeAll
  static void load() throws Exception {
    reference = HuggingFaceTokenizer.builder()
        .optTokenizerPath(TestData.gpt2TokenizerJson())
        .optAddSpecialTokens(false)
        .optTruncation(false)
        .build();
    gpt2 = ByteLevelBpeTokenizer.load(Files.readAllBytes(TestData.gpt2TokenizerJson()), "auto");
  }

  @AfterAll
  static void close() {
    reference.close();
  }

  static int[] encode(Tokenizer t, String text) {
    IntList out = new IntList();
    t.encode(text, true, out);
    return out.toArray();
  }

  static int[] referenceIds(String text) {
    return Arrays.stream(reference.encode(text).getIds()).mapToInt(Math::toIntExact).toArray();
  }

  @Test
  void knownIds() {
    // From the GPT-2 vocabulary: "Hello" = 15496, " world" = 995.
    assertArrayEquals(new int[] {15496, 995}, encode(gpt2, "Hello world"));
    assertEquals(50257, gpt2.vocabSize());
    assertEquals(50256, gpt2.endOfDocumentId());
  }

  @Test
  void matchesReferenceOnEdgeCases() {
    List<String> cases = List.of(
        "", " ", "  ", "\n", " \n ", "a  b", "a \n b", "x\t\ty", "it's I'm we'll they've you'd she's 'sup",
        "don't DON'T", "1234567890 3.14159", "  leading", "trailing  ", "\u00a0nbsp\u00a0", "\u3000ideographic",
        "emoji \uD83D\uDE00\uD83D\uDE00!", "mixed日本語text123abc", "====================", "tab\tseparated\tvalues",
        "Ⅻ ½ ² ٣", "line1\r\nline2", "\u0085next line", "a\u2028b", "((()))[[]]{{}}", "foo.bar_baz(qux)",
        " ".repeat(300) + "x", "a".repeat(5000), "z" + "\n".repeat(10) + "y");
    for (String text : cases) {
      assertArrayEquals(referenceIds(text), encode(gpt2, text), () -> "text: " + text);
    }
  }

  @Test
  void matchesReferenceOnCodeLikeDocuments() {
    for (String doc : TestData.pythonLikeDocuments(300, 7)) {
      assertArrayEquals(referenceIds(doc), encode(gpt2, doc), () -> "doc: " + doc);
    }
  }

  @Test
  void matchesReferenceOnRandomUnicode() {
    Random r = new Random(11);
    int[] pool = {' ', ' ', '\n', '\t', 'a', 'Z', '7', '\'', 's', '.', '_', 0xe9, 0x4e2d, 0x1F600, 0x2003, 0xa0, 0x661, 0x2167, 0x300};
    for (int i = 0; i < 500; i++) {
      StringBuilder sb = new StringBuilder();
      for (int k = r.nextInt(60); k > 0; k--) {
        sb.appendCodePoint(pool[r.nextInt(pool.length)]);
      }
      String text = sb.toString();
      assertArrayEquals(referenceIds(text), encode(gpt2, text), () -> "text: " + text);
    }
  }

  @Test
  void literalSpecialTokenTextIsOrdinaryText() {
    int[] ids = encode(gpt2, "a<|endoftext|>b");
    assertTrue(Arrays.stream(ids).noneMatch(id -> id == 50256), "only the job places end-of-document ids");
  }

  @Test
  void segmentsAtSafeCutsGiveTheSameIdsAsTheWholeDocument() {
    for (String doc : TestData.pythonLikeDocuments(200, 3)) {
      IntList whole = new IntList();
      gpt2.encode(doc, true, whole);
      IntList pieces = new IntList();
      List<String> segments = cutEverywhereSafe(doc);
      for (int i = 0; i < segments.size(); i++) {
        gpt2.encode(segments.get(i), i == 0, pieces);
      }
      assertArrayEquals(whole.toArray(), pieces.toArray(), () -> "doc: " + doc);
    }
  }

  /** Cuts at every position the text reader may cut at. */
  static List<String> cutEverywhereSafe(String doc) {
    List<String> segments = new ArrayList<>();
    String rest = doc;
    int cut;
    while ((cut = org.outlierlab.dataprep.corpus.SafeCuts.last(rest)) > 0) {
      segments.add(0, rest.substring(cut));
      rest = rest.substring(0, cut);
    }
    segments.add(0, rest);
    return segments;
  }

  @Test
  void rejectsUnsupportedTokenizers() {
    byte[] wordPiece = "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}".getBytes(StandardCharsets.UTF_8);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteLevelBpeTokenizer.load(wordPiece, "auto"));
    assertTrue(e.getMessage().contains("supported: BPE"), e.getMessage());
  }
}
