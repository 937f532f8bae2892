package org.outlierlab.dataprep;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Inputs shared by tests: the GPT-2 tokenizer in ../shared and realistic text made up on the spot. */
public final class TestData {
  private TestData() {}

  public static Path gpt2TokenizerJson() {
    Path p = Path.of(System.getProperty("oflab.shared", "../../shared"), "data", "gpt2-tokenizer.json");
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException("test data missing: " + p.toAbsolutePath() + " (../shared beside the repository)");
    }
    return p;
  }

  /** Python-like source with the awkward cases: contractions, runs of spaces, tabs, numbers, Unicode. */
  public static List<String> pythonLikeDocuments(int count, long seed) {
    Random r = new Random(seed);
    String[] names = {"x", "value", "données", "résumé", "naïve", "数据", "Δt", "i", "self", "_hidden", "CamelCase"};
    String[] ops = {" = ", " += ", "==", " -> ", ": ", ", ", "(", ")", "[", "]", "{", "}", "**", " // ", ".", "  "};
    List<String> docs = new ArrayList<>();
    for (int d = 0; d < count; d++) {
      StringBuilder sb = new StringBuilder();
      int lines = 1 + r.nextInt(40);
      for (int l = 0; l < lines; l++) {
        sb.append(" ".repeat(4 * r.nextInt(4)));
        switch (r.nextInt(8)) {
          case 0 -> sb.append("def ").append(names[r.nextInt(names.length)]).append("(self, n=").append(r.nextInt(100000)).append("):");
          case 1 -> sb.append("# it's a comment, we'll see what they've done; I'm sure you'd agree");
          case 2 -> sb.append("return \"string with\ttab and  double  spaces\" ").append(r.nextDouble());
          case 3 -> sb.append("emoji = '\uD83D\uDE00 \uD83D\uDC4D' # café ½ ² Ⅻ");
          case 4 -> sb.append("\t\tindented_with_tabs = [1, 2, 3]   ");
          default -> {
            for (int k = 0; k < 1 + r.nextInt(8); k++) {
              sb.append(names[r.nextInt(names.length)]).append(ops[r.nextInt(ops.length)]);
            }
          }
        }
        sb.append(r.nextInt(10) == 0 ? "\n\n\n" : r.nextInt(10) == 0 ? "  \n" : "\n");
      }
      if (r.nextBoolean()) {
        sb.append("   ");
      }
      docs.add(sb.toString());
    }
    return docs;
  }
}
