package org.outlierlab.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigLoader;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.optim.RotatedAdaFactor;
import org.outlierlab.model.optim.Soap;
import org.outlierlab.model.train.TrainSettings;

/** Every paper experiment in conf/paper resolves, with every block, to a valid model and run, as documented. */
class PaperConfigsTest {
  private static final String DIR = "../conf/paper/";

  private static ConfigReader load(String... files) {
    return new ConfigReader(ConfigLoader.load(List.of(files).stream().map(f -> DIR + f).toList(), Map.of()));
  }

  @Test
  void everyBaseWithEveryBlockAndSweepIsValid() {
    File[] all = new File(DIR).listFiles((d, name) -> name.endsWith(".conf"));
    List<String> bases = List.of("codeparrot-130m.conf", "languini-small.conf", "languini-medium.conf", "languini-xl.conf");
    int checked = 0;
    for (String base : bases) {
      for (File f : all) {
        if (bases.contains(f.getName())) {
          continue;
        }
        ConfigReader c = load(base, f.getName());
        ModelConfig model = TrainConfig.model(c, 50257, 513); // sizes from the shards; only the shape is checked
        TrainConfig.settings(c, c.string("model.block"));
        TrainConfig.optimizer(c);
        assertTrue(model.nLayers() >= 6, base + " + " + f.getName());
        checked++;
      }
    }
    assertEquals(bases.size() * (all.length - bases.size()), checked);
  }

  /** SCIENCE.md §3.1-3.2's SOAP and rotated AdaFactor, by name, with their preconditioner settings. */
  @Test
  void soapAndRotatedAdaFactorAreConfigurable() {
    ConfigReader soap = new ConfigReader(ConfigLoader.load(List.of(DIR + "codeparrot-130m.conf"),
        Map.of("train.optimizer", "soap", "train.precondition_frequency", "5")));
    TrainConfig.OptimizerSpec spec = TrainConfig.optimizer(soap);
    assertEquals(List.of(-1.0, 5.0, 10000.0),
        List.of(spec.shampooBeta(), (double) spec.preconditionFrequency(), (double) spec.maxPrecondDim()));
    assertInstanceOf(Soap.class, spec.create());
    ConfigReader rotated = new ConfigReader(ConfigLoader.load(List.of(DIR + "codeparrot-130m.conf"),
        Map.of("train.optimizer", "rotated-adafactor", "train.shampoo_beta", "0.99")));
    assertInstanceOf(RotatedAdaFactor.class, TrainConfig.optimizer(rotated).create());
    ConfigReader wrong = new ConfigReader(ConfigLoader.load(List.of(), Map.of("train.shampoo_beta", "-0.5")));
    ConfigError e = assertThrows(ConfigError.class, () -> TrainConfig.optimizer(wrong));
    assertTrue(e.getMessage().contains("-1 (use beta2)"), e.getMessage());
  }

  /** The paper's vocabulary is too long to rotate at the default; an 8192-token one is not, and is warned about. */
  @Test
  void rotatingAVocabularyAxisIsWarnedAbout() {
    ConfigReader c = load("codeparrot-130m.conf", "block-pre-ln.conf");
    TrainConfig.OptimizerSpec adamw = TrainConfig.optimizer(c);
    TrainConfig.OptimizerSpec soap = TrainConfig.optimizer(new ConfigReader(ConfigLoader.load(
        List.of(DIR + "codeparrot-130m.conf"), Map.of("train.optimizer", "soap"))));
    assertNull(soap.vocabularyCostWarning(TrainConfig.model(c, 50257, 129)));
    assertNull(adamw.vocabularyCostWarning(TrainConfig.model(c, 8192, 129)));
    assertNull(soap.vocabularyCostWarning(TrainConfig.model(c, 3072, 129))); // no longer than the MLP's axis
    String warning = soap.vocabularyCostWarning(TrainConfig.model(c, 8192, 129));
    assertTrue(warning.contains("8192-token") && warning.contains("train.max_precond_dim below 8192"), warning);
  }

  @Test
  void theCodeParrotShapeIsThePapers() {
    ConfigReader c = load("codeparrot-130m.conf", "block-pre-ln.conf");
    assertEquals(32, c.intBetween("train.batch_size", 1, 1 << 20));
    assertEquals(1e-3, c.fraction("train.lr", 0, 1, true));
    long nonEmbedding = 6L * (4 * 768 * 768 + 2 * 768 * 3072);
    ModelConfig model = TrainConfig.model(c, 50257, 129);
    assertEquals(42L, nonEmbedding / 1_000_000, "42.5 M parameters in the blocks, ~120 M with both embeddings");
    assertEquals(128, model.seqLen());
    assertEquals(768, model.dModel());
    assertTrue(!model.tiedEmbeddings());
  }

  @Test
  void everyBlockTakesThePapersEmbeddingScale() {
    for (String block : List.of("block-pre-ln.conf", "block-post-ln.conf", "block-pre-rms.conf", "block-pre-srms.conf",
        "block-op.conf", "block-pre-ln-downweighted.conf")) {
      ModelConfig model = TrainConfig.model(load("codeparrot-130m.conf", block), 50257, 129);
      assertEquals(50.0, model.embeddingScale(), block + ": x50, so the mean squared input is 1 at init");
    }
  }

  @Test
  void appendixDSnapshotsEveryStepOfItsWindowOnFixedInputsWithoutMomentum() {
    ConfigReader c = load("codeparrot-130m.conf", "block-pre-ln.conf", "appendix-d.conf");
    TrainSettings s = TrainConfig.settings(c, "pre-ln");
    assertTrue(s.fixedProbe());
    assertEquals(new TrainSettings.StepRange(0, 2000), s.snapshotWindow());
    assertEquals(0, s.snapshotInterval(), "no snapshots that could not be paired with the next step");
    assertEquals(java.util.Set.of(1), s.snapshotLayers(), "the input of the 2nd attention block");
    assertEquals(0.0, c.fraction("train.beta1", 0, 1, false), "Adam without momentum");
  }

  @Test
  void languiniConfigsCaptureThePreNormOutputs() {
    for (String base : List.of("languini-small.conf", "languini-medium.conf", "languini-xl.conf")) {
      TrainSettings s = TrainConfig.settings(load(base, "block-pre-ln.conf"), "pre-ln");
      assertTrue(s.snapshotSites().containsAll(List.of("norm_attn_out", "norm_mlp_out", "resid_attn_in")), base);
    }
  }

  @Test
  void tableThreeRowsWalkFromPreRmsToOp() {
    File[] rows = new File(DIR).listFiles((d, name) -> name.startsWith("table3-"));
    java.util.Arrays.sort(rows);
    List<ModelConfig> models = java.util.Arrays.stream(rows)
        .map(f -> TrainConfig.model(load("codeparrot-130m.conf", f.getName()), 50257, 129)).toList();
    assertEquals(8, models.size(), "one file per row");
    assertEquals(8, new java.util.HashSet<>(models).size(), "every row a different model");
    ModelConfig preRms = TrainConfig.model(load("codeparrot-130m.conf", "block-pre-rms.conf"), 50257, 129);
    ModelConfig op = TrainConfig.model(load("codeparrot-130m.conf", "block-op.conf"), 50257, 129);
    assertEquals(preRms, models.get(0));
    assertEquals(op, models.get(7));
    ModelConfig preQkOnly = models.get(6);
    assertTrue(preQkOnly.normBeforeQk() && !preQkOnly.normBeforeV() && !preQkOnly.normBeforeMlp()
        && preQkOnly.entropyRegulation() == ModelConfig.EntropyRegulation.NONE && preQkOnly.beta() == 0.2, "row 7");
  }
}

