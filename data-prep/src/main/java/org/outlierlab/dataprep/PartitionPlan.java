package org.outlierlab.dataprep;

import java.io.Serializable;
import java.util.List;

/** The files one task reads, in order. */
public record PartitionPlan(int index, List<InputFile> files) implements Serializable {}
