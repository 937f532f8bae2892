package org.outlierlab.jobs.train;

import com.typesafe.config.Config;
import org.nd4j.linalg.api.buffer.DataType;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSettings;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.train.TrainSettings;

/**
 * What the train job runs with, every key validated before any file is read: the run, the model (whose vocabulary
 * and row length come from the token shards), the optimiser, the workers ({@code workers} 0: one per executor or
 * core) and how often they average, the BLAS path, the precision, whether to resume; the model and train sections
 * the run's config.conf records, the grid point it is (empty strings outside a grid), and the job's Spark.
 */
public record TrainJobSettings(TrainSettings run, String block, ModelFactory model, TrainConfig.OptimizerSpec optimizer,
    int workers, long averagingFrequency, String blasKernels, DataType dtype, boolean resume, Config recorded,
    String grid, String point, SparkSettings spark) {

  /** The model for the token shards' vocabulary and row length. */
  public interface ModelFactory {
    ModelConfig forData(int vocabSize, int rowLength);
  }

  enum Precision {
    FLOAT,
    DOUBLE
  }

  /** These settings, resuming the run or not. */
  public TrainJobSettings withResume(boolean resume) {
    return new TrainJobSettings(run, block, model, optimizer, workers, averagingFrequency, blasKernels, dtype, resume,
        recorded, grid, point, spark);
  }

  public static TrainJobSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    TrainConfig.model(c, 2, 2); // every model.* key checked now; the sizes come from the shards
    TrainConfig.OptimizerSpec optimizer = TrainConfig.optimizer(c);
    int workers = c.countOrAuto("train.workers", "workers");
    long frequency = c.longAtLeast("train.averaging_frequency", 1);
    String block = c.string("model.block");
    TrainSettings run = TrainConfig.settings(c, block);
    String blasKernels = TrainConfig.blasKernels(c);
    DataType dtype = c.choice("train.dtype", Precision.class) == Precision.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
    Config recorded = config.withOnlyPath(TrainConfig.MODEL).withFallback(config.withOnlyPath(TrainConfig.TRAIN));
    return new TrainJobSettings(run, block, (vocab, rowLength) -> TrainConfig.model(c, vocab, rowLength), optimizer,
        workers, frequency, blasKernels, dtype, c.bool("train.resume"), recorded, c.string("train.grid"),
        c.string("train.point"), SparkSettings.read(config));
  }
}
