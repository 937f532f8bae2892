package org.outlierlab.model.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.ModelConfig.Block;
import org.outlierlab.model.TransformerLM;

/** The sites {@link Site} documents exist where it says, with its shapes, and a transform at a site is applied. */
class SiteTest {
  static final int V = 11;
  static final int D = 8;
  static final int H = 2;
  static final int T = 5;
  static final int B = 3;

  static ModelConfig tiny(Block block) {
    return ModelConfig.of(block, V, D, 2, H, T);
  }

  static int[][] tokens(int seed) {
    int[][] t = new int[B][T];
    for (int i = 0; i < B; i++) {
      for (int j = 0; j < T; j++) {
        t[i][j] = (seed + 7 * i + 3 * j) % V;
      }
    }
    return t;
  }

  /** Site's list, layer by layer, for a block with the given extras. */
  static List<String> documented(boolean inputNorms, boolean qkNorm, boolean alpha, boolean postNorms) {
    List<String> sites = new ArrayList<>();
    for (int l = 0; l < 2; l++) {
      List<String> kinds = new ArrayList<>(List.of("resid_attn_in"));
      kinds.addAll(inputNorms ? List.of("norm_attn_out") : List.of());
      kinds.addAll(List.of("attn_q_in", "attn_q_weight", "attn_k_in", "attn_k_weight", "attn_v_in", "attn_v_weight"));
      kinds.addAll(qkNorm ? List.of("q_norm_out", "k_norm_out") : List.of());
      kinds.addAll(List.of("attn_scores", "attn_probs", "attn_context", "attn_o_in", "attn_o_weight"));
      kinds.addAll(postNorms ? List.of("resid_attn_sum") : List.of());
      kinds.add("resid_mlp_in");
      kinds.addAll(inputNorms ? List.of("norm_mlp_out") : List.of());
      kinds.addAll(List.of("mlp_up_in", "mlp_up_weight"));
      kinds.addAll(alpha ? List.of("mlp_preact") : List.of());
      kinds.addAll(List.of("mlp_down_in", "mlp_down_weight"));
      kinds.addAll(postNorms ? List.of("resid_mlp_sum") : List.of());
      for (String kind : kinds) {
        sites.add(kind + "_" + l);
      }
    }
    sites.addAll(List.of("unembed_in", "unembed_weight"));
    return sites;
  }

  @Test
  void everyDocumentedSiteExistsInGraphOrder() {
    assertEquals(documented(true, false, false, false), sites(tiny(Block.PRE_LN)));
    assertEquals(documented(false, true, true, false),
        sites(tiny(Block.OP).toBuilder().alpha(ModelConfig.Alpha.RECURSION).build()));
    assertEquals(documented(false, false, false, true), sites(tiny(Block.POST_LN)));
    List<String> finalNorm = sites(tiny(Block.PRE_LN).toBuilder().finalNorm(true).build());
    assertEquals("resid_mlp_sum_1", finalNorm.get(finalNorm.size() - 3), "the sum before final_norm: " + finalNorm);
  }

  /** Site.KINDS, which configuration is checked against, lists every kind in the order the graph has them. */
  @Test
  void theListOfKindsHoldsEveryKindInGraphOrder() {
    List<String> all = new ArrayList<>();
    for (ModelConfig config : List.of(tiny(Block.PRE_LN), tiny(Block.OP).toBuilder().alpha(ModelConfig.Alpha.RECURSION)
        .build(), tiny(Block.POST_LN))) {
      List<String> kinds = sites(config).stream().map(Site::kind).distinct().toList();
      List<String> inKinds = Site.KINDS.stream().filter(kinds::contains).toList();
      assertEquals(inKinds, kinds, "graph order");
      kinds.stream().filter(k -> !all.contains(k)).forEach(all::add);
    }
    assertEquals(new java.util.TreeSet<>(Site.KINDS), new java.util.TreeSet<>(all));
  }

  private static List<String> sites(ModelConfig config) {
    return new TransformerLM(config, DataType.DOUBLE, 1).sites();
  }

  /** Every site can be captured, split over two threads too, with the shape Site documents. */
  @Test
  void everySiteIsCapturedWithItsDocumentedShape() {
    for (ModelConfig config : List.of(tiny(Block.PRE_LN), tiny(Block.OP).toBuilder().alpha(ModelConfig.Alpha.RECURSION)
        .tiedEmbeddings(true).build())) {
      TransformerLM model = new TransformerLM(config, DataType.DOUBLE, 2);
      model.useThreads(2);
      if (config.hasAlpha()) {
        model.initAlpha(tokens(0));
      }
      Map<String, INDArray> values = model.forwardBackward(tokens(1), tokens(2), new LinkedHashSet<>(model.sites()))
          .activations();
      assertEquals(model.sites(), List.copyOf(values.keySet()));
      values.forEach((site, value) -> assertArrayEquals(shape(site, config.tiedEmbeddings()), value.shape(), site));
      assertEquals(model.parameters().get("h1_w2"), values.get("mlp_down_weight_1"), "a weight site is the parameter");
    }
  }

  private static long[] shape(String site, boolean tied) {
    String kind = site.replaceAll("_\\d+$", "");
    return switch (kind) {
      case "attn_q_in", "attn_k_in", "attn_v_in", "attn_o_in", "mlp_up_in" -> new long[] {B * T, D};
      case "attn_q_weight", "attn_k_weight", "attn_v_weight", "attn_o_weight" -> new long[] {D, D};
      case "q_norm_out", "k_norm_out", "attn_context" -> new long[] {B, H, T, D / H};
      case "attn_scores", "attn_probs" -> new long[] {B, H, T, T};
      case "mlp_preact", "mlp_down_in" -> new long[] {B * T, 4 * D};
      case "mlp_up_weight" -> new long[] {D, 4 * D};
      case "mlp_down_weight" -> new long[] {4 * D, D};
      case "unembed_weight" -> tied ? new long[] {V, D} : new long[] {D, V};
      default -> new long[] {B, T, D}; // the residual stream and the norms' outputs
    };
  }

  /** Doubling the unembedding's input (or its weight) doubles the logits exactly: the network uses the transform. */
  @Test
  void aTransformAtASiteIsApplied() {
    for (Block block : new Block[] {Block.PRE_LN, Block.OP}) {
      INDArray plain = new TransformerLM(tiny(block), DataType.DOUBLE, 3).logits(tokens(4));
      for (String site : List.of("unembed_in", "unembed_weight")) {
        TransformerLM doubled = new TransformerLM(tiny(block), DataType.DOUBLE, 3,
            SiteTransforms.of(Map.of(site, x -> x.mul(2.0))));
        assertArrayEquals(bits(plain.mul(2)), bits(doubled.logits(tokens(4))), block + " " + site);
      }
    }
  }

  /**
   * ×1 at every site adds ops but computes the same thing: the loss and every gradient stay bit-identical, and the
   * captured sites hold the same values.
   */
  @Test
  void anExactIdentityAtEverySiteChangesNothing() {
    for (Block block : new Block[] {Block.PRE_LN, Block.OP}) {
      TransformerLM plain = new TransformerLM(tiny(block), DataType.DOUBLE, 5);
      Map<String, UnaryOperator<SDVariable>> identities = plain.sites().stream()
          .collect(Collectors.toMap(s -> s, s -> x -> x.mul(1.0)));
      TransformerLM timesOne = new TransformerLM(tiny(block), DataType.DOUBLE, 5, SiteTransforms.of(identities));
      var expected = plain.forwardBackward(tokens(6), tokens(7), new LinkedHashSet<>(plain.sites()));
      var actual = timesOne.forwardBackward(tokens(6), tokens(7), new LinkedHashSet<>(plain.sites()));
      assertEquals(expected.loss(), actual.loss(), 0, block + " loss");
      assertEquals(expected.gradients().keySet(), actual.gradients().keySet());
      expected.gradients().forEach((name, g) -> assertArrayEquals(bits(g), bits(actual.gradients().get(name)), name));
      expected.activations().forEach((name, a) ->
          assertArrayEquals(bits(a), bits(actual.activations().get(name)), name));
    }
  }

  /** The exact values, for comparisons without INDArray.equals's tolerance. */
  private static double[] bits(INDArray a) {
    return a.dup('c').data().asDouble();
  }

  @Test
  void aTransformForASiteTheModelLacksIsRefused() {
    var e = assertThrows(IllegalArgumentException.class, () -> new TransformerLM(tiny(Block.OP), DataType.DOUBLE, 1,
        SiteTransforms.of(Map.of("norm_attn_out_0", x -> x))));
    assertTrue(e.getMessage().contains("norm_attn_out_0"), e.getMessage());
  }
}
