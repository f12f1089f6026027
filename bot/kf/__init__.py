"""微信客服: WeChat residents talk to the committee's customer-service account through WeCom's KF API."""
