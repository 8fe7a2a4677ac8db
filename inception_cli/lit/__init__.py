"""Lightning wrappers: one LightningModule for every architecture, and the LightningDataModule."""
