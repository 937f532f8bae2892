package org.outlierlab.dataprep.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.outlierlab.dataprep.ReferenceTools;
import org.outlierlab.dataprep.TestData;

/** Real models trained by spm_train; ids against spm_encode on the same lines. */
class SentencePieceTokenizerTest {
  @TempDir static Path dir;
  private static Path corpus;
  private static Path probe;

  @BeforeAll
  static void corpus() throws Exception {
    ReferenceTools.require("spm_train", "sentencepiece");
    List<String> lines = new ArrayList<>();
    for (String doc : TestData.pythonLikeDocuments(400, 5)) {
      lines.addAll(Arrays.asList(doc.split("\n")));
    }
    Random r = new Random(3);
    String[] words = "the of and to in a is that for it as was with be by on not he this are or his from at".split(" ");
    for (int i = 0; i < 3000; i++) {
      StringBuilder sb = new StringBuilder();
      for (int k = 0; k < 3 + r.nextInt(15); k++) {
        sb.append(words[r.nextInt(words.length)]).append(k % 5 == 4 ? ",  " : " ");
      }
      lines.add(sb.toString());
    }
    corpus = dir.resolve("corpus.txt");
    Files.write(corpus, lines, StandardCharsets.UTF_8);
    List<String> probeLines = new ArrayList<>(TestData.pythonLikeDocuments(60, 99).stream()
        .flatMap(d -> Arrays.stream(d.split("\n"))).toList());
    probeLines.addAll(List.of("", "   ", "ﬁne ＡＢＣ ① ½ Ⅻ ｶﾀｶﾅ", "  leading and   inner   spaces  ", "\ttabs\tand\u00a0nbsp",
        "unknown 日本語 \uD83D\uDE00 chars", "x", "ÅÅ Å e\u0301 é", "control\u0001char", "zzzz qqqq"));
    probe = dir.resolve("probe.txt");
    Files.write(probe, probeLines, StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "unigram|--model_type=unigram --vocab_size=800",
      "bpe|--model_type=bpe --vocab_size=800",
      "unigram-bytes|--model_type=unigram --vocab_size=1000 --byte_fallback=true",
      "bpe-bytes|--model_type=bpe --vocab_size=1000 --byte_fallback=true",
      "bpe-identity|--model_type=bpe --vocab_size=800 --normalization_rule_name=identity --remove_extra_whitespaces=false "
          + "--user_defined_symbols=def,<sep>",
      "unigram-user|--model_type=unigram --vocab_size=800 --user_defined_symbols=self,return --add_dummy_prefix=false"})
  void idsEqualSpmEncode(String spec) throws Exception {
    String name = spec.substring(0, spec.indexOf('|'));
    List<String> command = new ArrayList<>(List.of("spm_train", "--input=" + corpus, "--model_prefix=" + dir.resolve(name),
        "--character_coverage=0.995", "--num_threads=2", "--minloglevel=2"));
    command.addAll(Arrays.asList(spec.substring(spec.indexOf('|') + 1).split(" ")));
    ReferenceTools.run(command, null);
    File model = dir.resolve(name + ".model").toFile();
    String[] expected = ReferenceTools.run(
        List.of("spm_encode", "--model=" + model, "--output_format=id"), probe.toFile()).split("\n", -1);
    List<String> lines = Files.readAllLines(probe, StandardCharsets.UTF_8);
    SentencePieceTokenizer tokenizer = SentencePieceTokenizer.load(Files.readAllBytes(model.toPath()));
    for (int i = 0; i < lines.size(); i++) {
      IntList out = new IntList();
      tokenizer.encode(lines.get(i), true, out);
      int[] reference = expected[i].isBlank() ? new int[0] : Arrays.stream(expected[i].trim().split(" ")).mapToInt(Integer::parseInt).toArray();
      String line = lines.get(i);
      assertArrayEquals(reference, out.toArray(), () -> name + " line: '" + line + "'");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"lines"})
  void aDocumentIsEncodedLineByLineAndEosComesFromTheModel(String ignored) throws Exception {
    ReferenceTools.run(List.of("spm_train", "--input=" + corpus, "--model_prefix=" + dir.resolve("eos"),
        "--vocab_size=500", "--eos_id=3", "--unk_id=0", "--bos_id=1", "--pad_id=2", "--minloglevel=2"), null);
    SentencePieceTokenizer t = SentencePieceTokenizer.load(Files.readAllBytes(dir.resolve("eos.model")));
    assertEquals(3, t.endOfDocumentId());
    assertEquals(500, t.vocabSize());
    IntList whole = new IntList();
    t.encode("the cat\nsat on\n\nthe mat", true, whole);
    IntList perLine = new IntList();
    for (String line : List.of("the cat", "sat on", "the mat")) {
      t.encode(line, false, perLine);
    }
    assertArrayEquals(perLine.toArray(), whole.toArray());
  }

  @ParameterizedTest
  @ValueSource(strings = {"not a model", ""})
  void rejectsFilesThatAreNotModels(String content) {
    assertThrows(IllegalArgumentException.class,
        () -> SentencePieceTokenizer.load(content.getBytes(StandardCharsets.UTF_8)));
  }
}
