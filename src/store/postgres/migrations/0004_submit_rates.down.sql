DROP TABLE submit_rates;
